-- One row per served record. The input columns are the field table's
-- (classification_model/src/fields.rs); `name` holds only the title unless
-- HISTORY_KEEP_NAMES=true. `bins` packs each feature's drift bin (5 bits
-- each, in the explanation order), the probability decile and the
-- prediction (docs/ARCHITECTURE.md, "History").
CREATE TABLE predictions (
    id TEXT NOT NULL PRIMARY KEY,
    request_id TEXT NOT NULL,
    time_us BIGINT NOT NULL,
    version TEXT NOT NULL,
    pclass BIGINT,
    name TEXT,
    sex TEXT,
    age DOUBLE PRECISION,
    sibsp BIGINT,
    parch BIGINT,
    fare DOUBLE PRECISION,
    cabin TEXT,
    embarked TEXT,
    probability DOUBLE PRECISION NOT NULL,
    prediction BIGINT NOT NULL,
    bins BIGINT NOT NULL
);
CREATE INDEX predictions_newest ON predictions (time_us DESC, id DESC);
