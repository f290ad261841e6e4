//! The connection to the server: plaintext, or TLS verified against `--tls-ca` (the system's
//! roots without it) with an optional client certificate for mutual TLS; and `--token`
//! sent as `authorization: Bearer <token>` on every call.

use crate::cli::Cli;
use anyhow::{bail, Context};
use std::path::Path;
use std::time::Duration;
use tonic::metadata::{Ascii, MetadataValue};
use tonic::service::interceptor::{InterceptedService, Interceptor};
use tonic::transport::{self, Certificate, ClientTlsConfig, Endpoint, Identity};
use tonic::{Request, Status};

/// What every subcommand calls through: the transport channel behind the token interceptor
/// (which does nothing without `--token`).
pub(crate) type Channel = InterceptedService<transport::Channel, Bearer>;

/// Adds `authorization: Bearer <token>` to each call when a token is set.
#[derive(Clone)]
pub(crate) struct Bearer(Option<MetadataValue<Ascii>>);

impl Interceptor for Bearer {
    fn call(&mut self, mut request: Request<()>) -> Result<Request<()>, Status> {
        if let Some(value) = &self.0 {
            request
                .metadata_mut()
                .insert("authorization", value.clone());
        }
        Ok(request)
    }
}

/// The server's endpoint as the command line describes it: address, timeouts, and TLS.
pub(crate) fn endpoint(cli: &Cli) -> anyhow::Result<Endpoint> {
    let tls = cli.addr.starts_with("https://")
        || cli.tls_ca.is_some()
        || cli.tls_cert.is_some()
        || cli.tls_domain.is_some();
    if cli.addr.starts_with("http://") && tls {
        bail!("TLS options given for the plaintext address {}", cli.addr);
    }
    let uri = match (cli.addr.contains("://"), tls) {
        (true, _) => cli.addr.clone(),
        (false, true) => format!("https://{}", cli.addr),
        (false, false) => format!("http://{}", cli.addr),
    };
    let endpoint = Endpoint::from_shared(uri.clone())
        .with_context(|| format!("bad address {uri}"))?
        .timeout(Duration::from_secs(cli.timeout))
        .connect_timeout(Duration::from_secs(5));
    if !tls {
        return Ok(endpoint);
    }
    let mut config = match &cli.tls_ca {
        Some(ca) => ClientTlsConfig::new().ca_certificate(Certificate::from_pem(read(ca)?)),
        None => ClientTlsConfig::new().with_native_roots(),
    };
    if let (Some(cert), Some(key)) = (&cli.tls_cert, &cli.tls_key) {
        config = config.identity(Identity::from_pem(read(cert)?, read(key)?));
    }
    if let Some(domain) = &cli.tls_domain {
        config = config.domain_name(domain);
    }
    endpoint.tls_config(config).context("configuring TLS")
}

/// A lazily connecting channel to `endpoint` that sends `token`, if any, on every call.
pub(crate) fn channel(endpoint: &Endpoint, token: Option<&str>) -> anyhow::Result<Channel> {
    let header = match token {
        Some(t) => Some(
            format!("Bearer {}", t.trim())
                .parse()
                .context("the token must be printable ASCII")?,
        ),
        None => None,
    };
    Ok(InterceptedService::new(
        endpoint.connect_lazy(),
        Bearer(header),
    ))
}

fn read(path: &Path) -> anyhow::Result<Vec<u8>> {
    std::fs::read(path).with_context(|| format!("reading {}", path.display()))
}
