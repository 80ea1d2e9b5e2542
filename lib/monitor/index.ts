// The advis monitor: what an operator sees and does (monitor.ts), the Prometheus figures (metrics.ts) and when to
// tell a person (alerts.ts). nodes/advis-monitor serves them in the editor and as admin endpoints.
export * from './alerts';
export * from './metrics';
export * from './monitor';
