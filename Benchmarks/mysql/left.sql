-- Rows of src.events that dst.events lacks or holds differently, and rows only dst holds: what a
-- repair left undone (0 when the tables are equal), from the servers' own comparison.
SELECT
  (SELECT COUNT(*) FROM src.events s LEFT JOIN dst.events d ON d.id = s.id
   WHERE d.id IS NULL OR NOT (s.account_id <=> d.account_id AND s.kind <=> d.kind AND s.payload <=> d.payload
     AND s.amount <=> d.amount AND s.created_at <=> d.created_at AND s.updated_at <=> d.updated_at))
  + (SELECT COUNT(*) FROM dst.events d LEFT JOIN src.events s ON s.id = d.id WHERE s.id IS NULL);
