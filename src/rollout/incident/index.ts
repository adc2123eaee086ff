// Incident records, as JSON and Markdown. Re-exports only, so no module imports its own folder at load time.
export * from './create-incident.js';
export * from './incident-markdown.js';
