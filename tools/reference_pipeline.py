"""Independent reference for the golden values in classification_model/tests/golden/.

Implements docs/PIPELINE.md with numpy, pandas and scikit-learn (not
feature_engine), solving the logistic objective tightly, and writes
reference.json. Not run in CI: the JSON it produced is committed.

    pip install numpy pandas scikit-learn scipy
    python3 tools/reference_pipeline.py classification_model/datasets/titanic.csv \
        > classification_model/tests/golden/reference.json
"""
import json
import math
import sys

import numpy as np
import pandas as pd
from scipy.optimize import minimize
from sklearn.metrics import accuracy_score, roc_auc_score
from sklearn.model_selection import train_test_split

FEATURES = ["pclass", "sex", "age", "sibsp", "parch", "fare", "cabin", "embarked", "title"]
CATEGORICAL = ["sex", "cabin", "embarked", "title"]
NUMERIC_NA = ["age", "fare"]
C = 0.0005
TOL = 0.05


def title(name):
    if not isinstance(name, str):
        return np.nan
    for t in ("Mrs", "Mr", "Miss", "Master"):
        if t in name:
            return t
    return "Other"


def prepare(path):
    df = pd.read_csv(path, na_values="?", keep_default_na=False, dtype=str)
    return prepare_frame(df), df["survived"].astype(int).to_numpy()


def prepare_frame(df):
    """The features of a DataFrame with the dataset's columns (text or
    typed; `?` or NaN for missing)."""
    df = df.replace("?", np.nan)
    out = pd.DataFrame()
    out["pclass"] = df["pclass"].astype(float)
    out["sex"] = df["sex"]
    out["age"] = df["age"].astype(float)
    out["sibsp"] = df["sibsp"].astype(float)
    out["parch"] = df["parch"].astype(float)
    out["fare"] = df["fare"].astype(float)
    out["cabin"] = df["cabin"].map(lambda c: c.split()[0] if isinstance(c, str) else np.nan)
    out["embarked"] = df["embarked"]
    out["title"] = df["name"].map(title)
    return out[FEATURES]


def fit(X):
    X = X.copy()
    params = {}
    for v in CATEGORICAL:
        X[v] = X[v].fillna("Missing")
    for v in NUMERIC_NA:
        X[v + "_na"] = X[v].isna().astype(float)
    medians = {v: float(X[v].median()) for v in NUMERIC_NA}
    for v in NUMERIC_NA:
        X[v] = X[v].fillna(medians[v])
    X["cabin"] = X["cabin"].str[0]
    n = len(X)
    kept = {}
    for v in CATEGORICAL:
        freq = X[v].value_counts() / n
        kept[v] = sorted(freq[freq >= TOL].index.tolist())
        X[v] = X[v].where(X[v].isin(kept[v]), "Rare")
    cats = {}
    for v in CATEGORICAL:
        order = list(dict.fromkeys(X[v].tolist()))
        cats[v] = order[:-1]
    params.update(medians=medians, kept=kept, onehot=cats)
    return params


def transform(X, p):
    X = X.copy()
    for v in CATEGORICAL:
        X[v] = X[v].fillna("Missing")
    for v in NUMERIC_NA:
        X[v + "_na"] = X[v].isna().astype(float)
        X[v] = X[v].fillna(p["medians"][v])
    X["cabin"] = X["cabin"].str[0]
    for v in CATEGORICAL:
        X[v] = X[v].where(X[v].isin(p["kept"][v]), "Rare")
    cols = ["pclass", "age", "sibsp", "parch", "fare", "age_na", "fare_na"]
    out = X[cols].astype(float).copy()
    for v in CATEGORICAL:
        for c in p["onehot"][v]:
            out[f"{v}_{c}"] = (X[v] == c).astype(float)
    return out


def logistic_fit(Z, y):
    s = np.where(y == 1, 1.0, -1.0)
    d = Z.shape[1]

    def f(theta):
        w, b = theta[:d], theta[d]
        m = s * (Z @ w + b)
        return 0.5 * w @ w + C * np.logaddexp(0, -m).sum()

    def g(theta):
        w, b = theta[:d], theta[d]
        m = s * (Z @ w + b)
        r = -C * s * (1 / (1 + np.exp(m)))
        return np.concatenate([w + Z.T @ r, [r.sum()]])

    def h(theta):
        w, b = theta[:d], theta[d]
        m = s * (Z @ w + b)
        p = 1 / (1 + np.exp(-m))
        q = C * p * (1 - p)
        A = np.hstack([Z, np.ones((len(Z), 1))])
        H = A.T @ (A * q[:, None])
        H[:d, :d] += np.eye(d)
        return H

    theta = np.zeros(d + 1)
    for _ in range(100):  # Newton's method: exact to machine precision
        step = np.linalg.solve(h(theta), g(theta))
        theta -= step
        if np.abs(step).max() < 1e-15:
            break
    assert np.abs(g(theta)).max() < 1e-12, g(theta)
    return theta[:d], theta[d]


def run(X, y, train_idx, test_idx):
    Xtr = X.iloc[train_idx].reset_index(drop=True)
    p = fit(Xtr)
    Ztr = transform(Xtr, p)
    mean = Ztr.mean(axis=0).to_numpy().copy()
    std = Ztr.std(axis=0, ddof=0).to_numpy().copy()
    std[std == 0] = 1.0
    w, b = logistic_fit((Ztr.to_numpy() - mean) / std, y[train_idx])
    Zall = (transform(X, p).to_numpy() - mean) / std
    prob = 1 / (1 + np.exp(-(Zall @ w + b)))
    res = dict(
        medians=p["medians"], kept=p["kept"], onehot=p["onehot"],
        columns=list(Ztr.columns), mean=mean.tolist(), std=std.tolist(),
        coefficients=w.tolist(), intercept=float(b), probabilities=prob.tolist(),
    )
    for name, idx in (("train", train_idx), ("test", test_idx)):
        if len(idx):
            res[name + "_roc_auc"] = roc_auc_score(y[idx], prob[idx])
            res[name + "_accuracy"] = accuracy_score(y[idx], (prob[idx] > 0.5).astype(int))
    return res


def main():
    X, y = prepare(sys.argv[1])
    n = len(X)
    idx = np.arange(n)
    tr, te = train_test_split(idx, test_size=0.2, random_state=0)
    perm = np.random.RandomState(0).permutation(n)
    assert (perm[math.ceil(0.2 * n):] == tr).all()
    out = dict(
        permutation=perm.tolist(), n_test=len(te),
        split=run(X, y, tr, te),
        full=run(X, y, idx, np.array([], dtype=int)),
    )
    json.dump(out, sys.stdout, indent=1)


if __name__ == "__main__":
    main()
