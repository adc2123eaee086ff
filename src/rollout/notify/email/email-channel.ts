// Email over SMTP with nodemailer: subject, plain-text and HTML bodies; settings and credentials from EMAIL_*
// variables.
import nodemailer, { type Transporter } from 'nodemailer';
import type SMTPTransport from 'nodemailer/lib/smtp-transport/index.js';
import type { NotificationChannel } from '../index.js';
import { renderHtml, renderPlainText } from '../templates.js';
import type { AttemptOutcome, Env, RenderedMessage } from '../types.js';

export const EMAIL_CHANNEL_TYPE = 'email';
/** Socket-level limits; the delivery's per-attempt timeout still applies on top (it closes the transport). */
const SMTP_TIMEOUTS_MS = { connectionTimeout: 10_000, greetingTimeout: 10_000, socketTimeout: 20_000 };

export interface EmailPayload {
  subject: string;
  text: string;
  html: string;
  messageId: string;
  headers: Record<string, string>;
}

export function renderEmailPayload(m: RenderedMessage): EmailPayload {
  return {
    subject: m.title,
    text: renderPlainText(m),
    html: renderHtml(m),
    // The Message-ID doubles as the idempotency key: mail systems collapse duplicates by it.
    messageId: `<${m.idempotencyKey}@dhash.notify>`,
    headers: { 'X-Dhash-Event': m.event, 'X-Dhash-Env': m.env, 'Idempotency-Key': m.idempotencyKey },
  };
}

/**
 * EMAIL_SMTP_URL wins; otherwise EMAIL_HOST/EMAIL_PORT (587, or implicit TLS on 465) with optional
 * EMAIL_USER/EMAIL_PASS.
 */
export function getSmtpOptions(processEnv: Env): string | SMTPTransport.Options {
  if (processEnv.EMAIL_SMTP_URL) return processEnv.EMAIL_SMTP_URL;
  const port = Number(processEnv.EMAIL_PORT || 587);
  return {
    host: processEnv.EMAIL_HOST,
    port,
    secure: port === 465,
    ...(processEnv.EMAIL_USER ? { auth: { user: processEnv.EMAIL_USER, pass: processEnv.EMAIL_PASS ?? '' } } : {}),
  };
}

export function createEmailChannel(processEnv: Env): NotificationChannel {
  const to = (processEnv.EMAIL_TO ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  const from = processEnv.EMAIL_FROM || processEnv.EMAIL_USER || 'dhash@localhost';
  return {
    type: EMAIL_CHANNEL_TYPE,
    render: renderEmailPayload,
    async send(payload, { signal }) {
      if (!Number.isInteger(Number(processEnv.EMAIL_PORT || 587))) {
        return { ok: false, retryable: false, error: `EMAIL_PORT must be a port number, got ${processEnv.EMAIL_PORT}` };
      }
      let transport: Transporter<SMTPTransport.SentMessageInfo>;
      try {
        const options = getSmtpOptions(processEnv);
        transport = nodemailer.createTransport({
          ...(typeof options === 'string' ? { url: options } : options),
          ...SMTP_TIMEOUTS_MS,
        });
      } catch {
        return {
          ok: false,
          retryable: false,
          error: 'EMAIL_SMTP_URL is not a valid SMTP URL (expected smtp://user:pass@host:port)',
        };
      }
      const onAbort = () => transport.close();
      signal.addEventListener('abort', onAbort, { once: true });
      try {
        const p = payload as EmailPayload;
        const info = await transport.sendMail({
          from,
          to,
          subject: p.subject,
          text: p.text,
          html: p.html,
          messageId: p.messageId,
          headers: p.headers,
        });
        return { ok: true, detail: String(info.response ?? '').slice(0, 200) };
      } catch (error) {
        return signal.aborted ? { ok: false, retryable: true, error: 'aborted' } : classifySmtpError(error);
      } finally {
        signal.removeEventListener('abort', onAbort);
        transport.close();
      }
    },
  };
}

/** Authentication and permanent (5xx) SMTP errors are final; connection problems and 4xx replies may pass on retry. */
export function classifySmtpError(error: unknown): AttemptOutcome {
  const e = error as { code?: string; responseCode?: number; message?: string };
  const reply = e.responseCode ? ` (SMTP ${e.responseCode})` : '';
  if (e.code === 'EAUTH')
    return { ok: false, retryable: false, error: `SMTP authentication failed${reply}: check EMAIL_USER/EMAIL_PASS` };
  if (e.responseCode && e.responseCode >= 500)
    return { ok: false, retryable: false, error: `SMTP rejected the message${reply}: ${e.message ?? ''}` };
  return {
    ok: false,
    retryable: true,
    error: `SMTP error ${e.code ?? ''}${reply}: ${e.message ?? String(error)}`.replace(/\s+/g, ' '),
  };
}
