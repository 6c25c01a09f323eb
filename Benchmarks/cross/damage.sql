-- 1% scattered damage, the same rows every time (so the row path and the hash diff repair the
-- same damage): 0.5% stale amounts, 0.5% lost rows. Valid in SQLite and PostgreSQL.
UPDATE events SET amount = amount + 1 WHERE id % 200 = 3;
DELETE FROM events WHERE id % 200 = 101;
