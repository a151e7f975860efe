//! Sending email: SMTP (lettre) when `SMTP_URL` is set, otherwise `.eml` files under
//! `<data dir>/mail/` and a log line, so the embedded mode shows every message without a server.

pub mod templates;

use std::path::PathBuf;

use anyhow::Context;
use lettre::{
    AsyncFileTransport, AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor,
    message::{Attachment as MimeAttachment, Mailbox, MultiPart, header::ContentType},
};

use crate::config::Config;

/// One message, with a plain-text and an HTML part.
#[derive(Clone, Debug)]
pub struct Email {
    pub to: String,
    pub subject: String,
    pub text: String,
    pub html: String,
    pub attachments: Vec<Attachment>,
}

/// A file sent with an email (tickets, receipt).
#[derive(Clone, Debug)]
pub struct Attachment {
    pub filename: String,
    pub content_type: String,
    pub bytes: Vec<u8>,
}

pub enum Mailer {
    Files { transport: AsyncFileTransport<Tokio1Executor>, dir: PathBuf, from: Mailbox },
    Smtp { transport: AsyncSmtpTransport<Tokio1Executor>, from: Mailbox },
}

impl Mailer {
    pub fn from_config(config: &Config) -> anyhow::Result<Self> {
        let from: Mailbox = config
            .mail_from
            .parse()
            .with_context(|| format!("MAIL_FROM {:?} is not a mailbox", config.mail_from))?;
        match &config.smtp_url {
            Some(url) => {
                let transport = AsyncSmtpTransport::<Tokio1Executor>::from_url(url.expose())
                    .context("SMTP_URL is not a valid smtp:// or smtps:// URL")?
                    .build();
                Ok(Self::Smtp { transport, from })
            }
            None => {
                let dir = config.data_dir.join("mail");
                std::fs::create_dir_all(&dir).with_context(|| format!("cannot create {}", dir.display()))?;
                Ok(Self::Files { transport: AsyncFileTransport::new(&dir), dir, from })
            }
        }
    }

    pub async fn send(&self, email: &Email) -> anyhow::Result<()> {
        let from = match self {
            Self::Files { from, .. } | Self::Smtp { from, .. } => from.clone(),
        };
        let to: Mailbox = email.to.parse().with_context(|| format!("{:?} is not a mailbox", email.to))?;
        let body = MultiPart::alternative_plain_html(email.text.clone(), email.html.clone());
        let body = if email.attachments.is_empty() {
            body
        } else {
            let mut mixed = MultiPart::mixed().multipart(body);
            for file in &email.attachments {
                let kind = ContentType::parse(&file.content_type)
                    .with_context(|| format!("content type {:?}", file.content_type))?;
                mixed = mixed
                    .singlepart(MimeAttachment::new(file.filename.clone()).body(file.bytes.clone(), kind));
            }
            mixed
        };
        let message = Message::builder()
            .from(from)
            .to(to)
            .subject(&email.subject)
            .multipart(body)
            .context("building the message")?;
        match self {
            Self::Files { transport, dir, .. } => {
                let id = transport.send(message).await.context("writing the message file")?;
                tracing::info!(to = %email.to, subject = %email.subject, file = %dir.join(format!("{id}.eml")).display(), "mail written");
            }
            Self::Smtp { transport, .. } => {
                transport.send(message).await.context("sending over SMTP")?;
                tracing::info!(to = %email.to, subject = %email.subject, "mail sent");
            }
        }
        Ok(())
    }
}
