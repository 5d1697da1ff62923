"""What derived features would add to the course pipeline (issue 14): an
exploration with scikit-learn, not part of training.

Uses tools/reference_pipeline.py's steps 1-7 on the course split (the 262
test rows held out), adds features computed from the record alone, and ranks
every combination x C x class weighting by 5-fold stratified CV ROC-AUC on the
1047 training rows (scikit-learn's StratifiedKFold, shuffled, seed 0). Prints
the ten best and, for the best by CV alone, its test ROC-AUC and accuracy.

    python3 -m venv v && v/bin/pip install scikit-learn pandas
    v/bin/python tools/derived_features.py classification_model/datasets/titanic.csv
"""

import itertools
import sys

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score, roc_auc_score
from sklearn.model_selection import StratifiedKFold, train_test_split

import reference_pipeline as R

FEATURES = {
    # log(1 + fare) instead of fare
    "log_fare": lambda X, Z, fare, family: Z.assign(fare=np.log1p(fare)),
    # log(1 + fare / family size)
    "fare_per_person": lambda X, Z, fare, family: Z.assign(fpp=np.log1p(fare / family)),
    # travelling alone; a family of five or more
    "family_group": lambda X, Z, fare, family: Z.assign(
        alone=(family == 1).astype(float), large=(family >= 5).astype(float)),
    # sex x class: a dummy per class for women
    "sex_class": lambda X, Z, fare, family: Z.assign(**{
        f"female_{c}": ((X["sex"] == "female") & (X["pclass"] == c)).astype(float)
        for c in (1, 2, 3)}),
    # under 14
    "child": lambda X, Z, fare, family: Z.assign(child=(X["age"] < 14).astype(float)),
}


def design(X, p, switches):
    Z = R.transform(X, p)
    family = X["sibsp"] + X["parch"] + 1
    fare = X["fare"].fillna(p["medians"]["fare"])
    for name in switches:
        Z = FEATURES[name](X, Z, fare, family)
    return Z.to_numpy()


def score(X, y, fit_rows, eval_rows, switches, c, balanced):
    Xf = X.iloc[fit_rows].reset_index(drop=True)
    p = R.fit(Xf)
    Zf = design(Xf, p, switches)
    mean, std = Zf.mean(0), Zf.std(0)
    std[std == 0] = 1
    Ze = design(X.iloc[eval_rows].reset_index(drop=True), p, switches)
    model = LogisticRegression(C=c, class_weight="balanced" if balanced else None,
                               max_iter=10000, tol=1e-10)
    model.fit((Zf - mean) / std, y[fit_rows])
    prob = model.predict_proba((Ze - mean) / std)[:, 1]
    return roc_auc_score(y[eval_rows], prob), accuracy_score(y[eval_rows], prob > 0.5)


def main():
    X, y = R.prepare(sys.argv[1])
    train, test = train_test_split(np.arange(len(X)), test_size=0.2, random_state=0)
    folds = list(StratifiedKFold(5, shuffle=True, random_state=0).split(train, y[train]))
    results = []
    for k in range(len(FEATURES) + 1):
        for switches in itertools.combinations(FEATURES, k):
            for c in (0.01, 0.03, 0.1, 0.3, 1.0):
                for balanced in (False, True):
                    cv = np.mean([score(X, y, train[a], train[b], switches, c, balanced)[0]
                                  for a, b in folds])
                    results.append((cv, switches, c, balanced))
    results.sort(key=lambda r: (-r[0], len(r[1])))
    for cv, switches, c, balanced in results[:10]:
        print(f"CV ROC-AUC {cv:.4f}  C={c} balanced={balanced}  {', '.join(switches) or '-'}")
    cv, switches, c, balanced = results[0]
    auc, acc = score(X, y, train, test, switches, c, balanced)
    print(f"best by CV, on the 262 test rows: ROC-AUC {auc:.4f}, accuracy {acc:.4f}")


if __name__ == "__main__":
    main()
