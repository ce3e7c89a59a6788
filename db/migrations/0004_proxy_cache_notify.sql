-- The /v1 proxy caches API key → account and (account, serving name) → upstream
-- in each api process. These triggers tell every process, through
-- pg_notify('qdz_cache', json), which entries a committed change makes stale.
-- NOTIFY is delivered at commit, so a rolled-back change invalidates nothing.
CREATE FUNCTION qdz_cache_notify_api_key() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'DELETE' THEN
    PERFORM pg_notify('qdz_cache', json_build_object('kind', 'api_key', 'key_id', OLD.id)::text);
  ELSIF NEW.revoked_at IS DISTINCT FROM OLD.revoked_at OR NEW.account_id IS DISTINCT FROM OLD.account_id THEN
    PERFORM pg_notify('qdz_cache', json_build_object('kind', 'api_key', 'key_id', NEW.id)::text);
  END IF;
  RETURN NULL;
END $$;
--> statement-breakpoint
CREATE TRIGGER api_keys_cache_notify
  AFTER UPDATE OF revoked_at, account_id OR DELETE ON api_keys
  FOR EACH ROW EXECUTE FUNCTION qdz_cache_notify_api_key();
--> statement-breakpoint
-- Any change to how an account's serving names resolve drops all of that
-- account's entries: inserts too, because the proxy also caches "no such model".
CREATE FUNCTION qdz_cache_notify_instance() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'INSERT' THEN
    IF NEW.serving_name IS NOT NULL THEN
      PERFORM pg_notify('qdz_cache', json_build_object('kind', 'account', 'account_id', NEW.account_id)::text);
    END IF;
  ELSIF TG_OP = 'DELETE' THEN
    PERFORM pg_notify('qdz_cache', json_build_object('kind', 'account', 'account_id', OLD.account_id)::text);
  ELSIF NEW.state IS DISTINCT FROM OLD.state
     OR NEW.serving_name IS DISTINCT FROM OLD.serving_name
     OR NEW.current_run_id IS DISTINCT FROM OLD.current_run_id
     OR NEW.deleted_at IS DISTINCT FROM OLD.deleted_at
     OR NEW.runtime_config IS DISTINCT FROM OLD.runtime_config THEN
    PERFORM pg_notify('qdz_cache', json_build_object('kind', 'account', 'account_id', NEW.account_id)::text);
  END IF;
  RETURN NULL;
END $$;
--> statement-breakpoint
CREATE TRIGGER instances_cache_notify
  AFTER INSERT OR UPDATE OF state, serving_name, current_run_id, deleted_at, runtime_config OR DELETE ON instances
  FOR EACH ROW EXECUTE FUNCTION qdz_cache_notify_instance();
--> statement-breakpoint
CREATE FUNCTION qdz_cache_notify_instance_run() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  owner text;
BEGIN
  IF NEW.runtime_url IS DISTINCT FROM OLD.runtime_url THEN
    SELECT account_id INTO owner FROM instances WHERE id = NEW.instance_id;
    IF owner IS NOT NULL THEN
      PERFORM pg_notify('qdz_cache', json_build_object('kind', 'account', 'account_id', owner)::text);
    END IF;
  END IF;
  RETURN NULL;
END $$;
--> statement-breakpoint
CREATE TRIGGER instance_runs_cache_notify
  AFTER UPDATE OF runtime_url ON instance_runs
  FOR EACH ROW EXECUTE FUNCTION qdz_cache_notify_instance_run();
