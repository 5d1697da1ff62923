-- One row per served record. The input columns are the field table's
-- (classification_model/src/fields.rs); `name` holds only the title unless
-- HISTORY_KEEP_NAMES=true. `bins` packs each feature's drift bin (5 bits
-- each, in the explanation order), the probability decile and the
-- prediction (docs/ARCHITECTURE.md, "History").
CREATE TABLE predictions (
    id TEXT NOT NULL PRIMARY KEY,
    request_id TEXT NOT NULL,
    time_us INTEGER NOT NULL,
    version TEXT NOT NULL,
    pclass INTEGER,
    name TEXT,
    sex TEXT,
    age REAL,
    sibsp INTEGER,
    parch INTEGER,
    fare REAL,
    cabin TEXT,
    embarked TEXT,
    probability REAL NOT NULL,
    prediction INTEGER NOT NULL,
    bins INTEGER NOT NULL
);
CREATE INDEX predictions_newest ON predictions (time_us DESC, id DESC);
