-- Dossier's system of record: one row per document id, holding its latest version or a
-- tombstone, numbered by the change sequence. Writers take the commit-order advisory lock
-- (see server/src/store/postgres.rs) before numbering, so sequence numbers become visible in
-- commit order and a follower reading `seq > last` never skips one.
CREATE SEQUENCE dossier_change_seq AS BIGINT;

CREATE TABLE dossier_documents (
    -- The document id (the API's Document.id).
    id TEXT PRIMARY KEY,
    -- The change sequence number of this version: followers read `seq > last ORDER BY seq`.
    seq BIGINT NOT NULL UNIQUE,
    -- The document as JSON (dossier's Document); NULL: deleted (a tombstone followers apply).
    doc TEXT,
    -- When this version was committed.
    changed_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
