-- Every api replica caches lookups in memory; these triggers extend the proxy's channel (0004) so one
-- LISTEN per process hears every change that makes an entry stale, whichever replica made it.

-- Firewalls: an edit or removal, and an attachment changing, drop the account's firewall lookups.
CREATE FUNCTION qdz_cache_notify_firewall() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify('qdz_cache', json_build_object('kind', 'firewall', 'account_id', COALESCE(NEW.account_id, OLD.account_id))::text);
  RETURN NULL;
END $$;
--> statement-breakpoint
CREATE TRIGGER firewalls_cache_notify
  AFTER UPDATE OF rules, name, store_prompt_text OR DELETE ON firewalls
  FOR EACH ROW EXECUTE FUNCTION qdz_cache_notify_firewall();
--> statement-breakpoint
CREATE FUNCTION qdz_cache_notify_instance_firewall() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  owner text;
BEGIN
  SELECT account_id INTO owner FROM instances WHERE id = COALESCE(NEW.instance_id, OLD.instance_id);
  IF owner IS NOT NULL THEN
    PERFORM pg_notify('qdz_cache', json_build_object('kind', 'firewall', 'account_id', owner)::text);
  END IF;
  RETURN NULL;
END $$;
--> statement-breakpoint
CREATE TRIGGER instance_firewalls_cache_notify
  AFTER INSERT OR UPDATE OR DELETE ON instance_firewalls
  FOR EACH ROW EXECUTE FUNCTION qdz_cache_notify_instance_firewall();
--> statement-breakpoint
-- Runs: a new runtime URL re-routes the account's serving names (as before); a run ending tells every
-- replica's agent directory to answer its pod "over" from its next report.
CREATE OR REPLACE FUNCTION qdz_cache_notify_instance_run() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  owner text;
BEGIN
  IF NEW.runtime_url IS DISTINCT FROM OLD.runtime_url THEN
    SELECT account_id INTO owner FROM instances WHERE id = NEW.instance_id;
    IF owner IS NOT NULL THEN
      PERFORM pg_notify('qdz_cache', json_build_object('kind', 'account', 'account_id', owner)::text);
    END IF;
  END IF;
  IF OLD.ended_at IS NULL AND NEW.ended_at IS NOT NULL THEN
    PERFORM pg_notify('qdz_cache', json_build_object('kind', 'run_ended', 'run_id', NEW.id)::text);
  END IF;
  RETURN NULL;
END $$;
--> statement-breakpoint
DROP TRIGGER instance_runs_cache_notify ON instance_runs;
--> statement-breakpoint
CREATE TRIGGER instance_runs_cache_notify
  AFTER UPDATE OF runtime_url, ended_at ON instance_runs
  FOR EACH ROW EXECUTE FUNCTION qdz_cache_notify_instance_run();
--> statement-breakpoint
-- The /v1 rate limit, one token bucket per key for all api replicas. Unlogged: a crash resets buckets to
-- full, which costs nothing but a burst, and spares the WAL a write per lease. Replicas lease a few tokens
-- at a time (src/proxy/rate-limit.ts), so this is written about once per hundredth of the limit.
CREATE UNLOGGED TABLE rate_limit_buckets (
  key text PRIMARY KEY,
  tokens double precision NOT NULL,
  refilled_at timestamp with time zone NOT NULL
);
--> statement-breakpoint
-- Takes up to p_wanted whole tokens from p_key's bucket (burst p_per_minute, refilled at p_per_minute a
-- minute) on the database's clock, read once the row is locked so concurrent leases never refill twice.
CREATE FUNCTION qdz_rate_limit_take(p_key text, p_per_minute integer, p_wanted integer, OUT granted integer, OUT tokens_left double precision)
LANGUAGE plpgsql AS $$
DECLARE
  stored double precision;
  stored_at timestamp with time zone;
  at timestamp with time zone;
  available double precision;
BEGIN
  INSERT INTO rate_limit_buckets (key, tokens, refilled_at) VALUES (p_key, p_per_minute, clock_timestamp()) ON CONFLICT (key) DO NOTHING;
  SELECT b.tokens, b.refilled_at INTO stored, stored_at FROM rate_limit_buckets b WHERE b.key = p_key FOR UPDATE;
  at := clock_timestamp();
  available := least(p_per_minute, stored + greatest(0, extract(epoch FROM at - stored_at)) * p_per_minute / 60.0);
  granted := least(p_wanted, floor(available))::integer;
  tokens_left := available - granted;
  UPDATE rate_limit_buckets SET tokens = tokens_left, refilled_at = at WHERE key = p_key;
END $$;
