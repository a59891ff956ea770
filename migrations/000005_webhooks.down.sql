DROP INDEX IF EXISTS events_created;
DROP INDEX IF EXISTS events_type;
DROP TABLE IF EXISTS webhook_attempts;
DROP TABLE IF EXISTS webhook_deliveries;
DROP TABLE IF EXISTS webhook_endpoints;
