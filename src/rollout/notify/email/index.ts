// Email over SMTP with nodemailer: subject, plain-text and HTML bodies; settings and credentials from EMAIL_*
// variables.
export * from './email-channel.js';
