DROP TABLE IF EXISTS pg_notification_windows;
