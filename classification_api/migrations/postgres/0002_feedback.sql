-- Ground truth sent later through POST /feedback, and the indexes that
-- /monitoring reads.
ALTER TABLE predictions ADD COLUMN survived BIGINT;
ALTER TABLE predictions ADD COLUMN feedback_time_us BIGINT;
CREATE INDEX predictions_feedback ON predictions (version, probability) WHERE survived IS NOT NULL;
CREATE INDEX predictions_monitoring ON predictions (version, time_us, bins);
