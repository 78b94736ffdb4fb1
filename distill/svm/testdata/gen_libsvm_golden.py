#!/usr/bin/python3
"""Writes libsvm_golden.json: small linear SVM problems in the degenerate regime (every multiplier at its upper
bound is optimal) with the solution scikit-learn's SVC (libsvm) returns for them, as in the reference recipe
(SVC(kernel="linear", C=C, class_weight="balanced"), C from numpy's logspace(-6, 0, 7)).

Run with Debian's python3 (scikit-learn 1.2.1):  /usr/bin/python3 gen_libsvm_golden.py > libsvm_golden.json
Rows are float32 (written with the shortest decimal that reads back to the same float32), labels ±1.
"""
import json
import numpy as np
import sklearn
from sklearn.svm import SVC


def f32(v):
    return np.format_float_positional(np.float32(v), unique=True, trim="-")


rng = np.random.default_rng(15)
grid = np.logspace(-6, 0, 7)
problems = []
for n, n_neg, d in [(8, 3, 4), (13, 4, 4), (25, 4, 4), (25, 5, 4), (50, 7, 4), (50, 10, 4), (50, 9, 4)]:
    y = np.ones(n, dtype=int)
    y[rng.permutation(n)[:n_neg]] = -1
    x = rng.normal(size=(n, d)).astype(np.float32)
    x[y > 0, 0] += 0.5
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    for c in grid[:4]:
        clf = SVC(kernel="linear", C=c, class_weight="balanced").fit(x, y)
        w = clf.coef_.ravel()
        b = float(clf.intercept_[0])
        u = np.where(y > 0, c * n / (2 * (y > 0).sum()), c * n / (2 * (y < 0).sum()))
        f0 = x.astype(np.float64) @ ((u * y) @ x.astype(np.float64))
        dec = x.astype(np.float64) @ w + b
        problems.append("{" + ",".join([
            f'"n":{n}', f'"n_neg":{n_neg}', f'"c":{float(c)!r}',
            f'"degenerate":{json.dumps(bool(f0[y > 0].max() - f0[y < 0].min() <= 2))}',
            f'"constant":{json.dumps(bool((dec > 0).all() or (dec <= 0).all()))}',
            f'"intercept":{b!r}', '"coef":[' + ",".join(repr(float(v)) for v in w) + "]",
            '"y":[' + ",".join(str(int(v)) for v in y) + "]",
            '"x":[' + ",".join("[" + ",".join(f32(v) for v in row) + "]" for row in x) + "]"]) + "}")
print('{"sklearn":' + json.dumps(sklearn.__version__) + ',"problems":[\n' + ",\n".join(problems) + "\n]}")
