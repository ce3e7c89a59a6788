-- A live run's row is rewritten every second (its last heartbeat) and every billing tick (its billed totals), and
-- neither column is indexed: with room left on each page the new version stays on the page (a HOT update) and
-- none of the run's five indexes is touched. Rows already stored get the room as their pages are rewritten.
ALTER TABLE "instance_runs" SET (fillfactor = 70);
