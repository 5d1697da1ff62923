-- What the shadow version (SHADOW_MODEL_VERSION) answered for a served
-- record, written off the response path; /monitoring joins it to
-- `predictions` on `id` to report how far the two agree.
CREATE TABLE shadow_predictions (
    id TEXT NOT NULL PRIMARY KEY,
    shadow_version TEXT NOT NULL,
    shadow_probability REAL NOT NULL,
    shadow_prediction INTEGER NOT NULL,
    shadow_time_us INTEGER NOT NULL
);
CREATE INDEX shadow_predictions_time ON shadow_predictions (shadow_time_us);
