-- The W3C traceparent of the operation that made each event, so a consumer continues its
-- trace (NULL when tracing is off).
ALTER TABLE outbox ADD COLUMN traceparent VARCHAR(55) NULL;
