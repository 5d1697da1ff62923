-- Ground truth sent later through POST /feedback, and the indexes that
-- /monitoring reads.
ALTER TABLE predictions ADD COLUMN survived INTEGER;
ALTER TABLE predictions ADD COLUMN feedback_time_us INTEGER;
CREATE INDEX predictions_feedback ON predictions (version, probability) WHERE survived IS NOT NULL;
CREATE INDEX predictions_monitoring ON predictions (version, time_us, bins);
