-- The peers' events table (../shared/peers/gen.sh) in MariaDB, @N@ rows, and the ground truth of
-- its damage: a 10% contiguous gap, ~0.1% lost rows, ~1% stale rows (CRC32 in place of hashint8).
DROP DATABASE IF EXISTS src;
CREATE DATABASE src CHARACTER SET utf8mb4 COLLATE utf8mb4_bin;
DROP DATABASE IF EXISTS bench;
CREATE DATABASE bench;
-- seq_1_to_N (MariaDB's sequence engine) needs a current database.
USE bench;
CREATE TABLE src.events (
  id BIGINT PRIMARY KEY, account_id BIGINT NOT NULL, kind VARCHAR(16) NOT NULL, payload JSON,
  amount DECIMAL(12,2), created_at DATETIME(6) NOT NULL, updated_at DATETIME(6) NOT NULL,
  KEY events_account_id_idx (account_id));
INSERT INTO src.events
SELECT seq, (seq * 7919) % 50000 + 1, ELT(1 + seq % 5, 'purchase', 'refund', 'signup', 'login', 'transfer'),
  IF(seq % 97 = 0, NULL, JSON_OBJECT('sku', CONCAT('SKU-', LPAD(seq % 100000, 6, '0')), 'qty', seq % 17 + 1,
    'channel', ELT(1 + seq % 3, 'web', 'ios', 'android'), 'note', MD5(seq))),
  IF(seq % 101 = 0, NULL, ((seq * 37) % 1000000) / 100.0),
  TIMESTAMP('2024-01-01') + INTERVAL seq SECOND,
  TIMESTAMP('2024-01-01') + INTERVAL seq SECOND + INTERVAL (seq % 86400) SECOND
FROM seq_1_to_@N@;
CREATE TABLE bench.damage (id BIGINT PRIMARY KEY, kind VARCHAR(8) NOT NULL);
INSERT INTO bench.damage
SELECT seq, CASE WHEN seq BETWEEN FLOOR(@N@ * 45 / 100) + 1 AND FLOOR(@N@ * 55 / 100) THEN 'gap'
                 WHEN CRC32(seq) % 1000 = 0 THEN 'deleted' ELSE 'stale' END
FROM seq_1_to_@N@
WHERE seq BETWEEN FLOOR(@N@ * 45 / 100) + 1 AND FLOOR(@N@ * 55 / 100) OR CRC32(seq) % 1000 = 0 OR CRC32(seq + 1000000007) % 100 = 0;
