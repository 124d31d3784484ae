-- Relays sleep between polls; a notification on commit wakes them instead. One per inserting
-- statement (a checkout's events are one multi-row insert); PostgreSQL delivers it when the
-- transaction commits and folds duplicates within one transaction.
CREATE FUNCTION shop_outbox_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('shop_outbox', '');
    RETURN NULL;
END
$$;

CREATE TRIGGER tr_outbox_notify AFTER INSERT ON outbox
    FOR EACH STATEMENT EXECUTE FUNCTION shop_outbox_notify();
