#!/usr/bin/python3
"""Writes compat_golden.json: a tiny three-class problem run through the reference recipe of
MadryLab/failure-directions (whitening with torch's train mean/std, L2 normalisation, per class
SVC(kernel="linear", class_weight="balanced") over numpy's logspace(-6, 0, 7) by 2-fold cross_val_score on
balanced accuracy, strict ">" so ties keep the smaller C, refit on the class's validation rows).

Run with Debian's python3 (scikit-learn 1.2.1, torch):  /usr/bin/python3 gen_compat_golden.py > compat_golden.json
Features are float32, written with the shortest decimal that reads back to the same float32.
"""
import json
import numpy as np
import torch
from sklearn.metrics import balanced_accuracy_score, make_scorer
from sklearn.model_selection import cross_val_score
from sklearn.svm import SVC

D = 6
import sys
rng = np.random.default_rng(int(sys.argv[1]) if len(sys.argv) > 1 else 5)


def f32(v):
    return np.format_float_positional(np.float32(v), unique=True, trim="-")


def rows(x):
    return "[" + ",".join("[" + ",".join(f32(v) for v in r) + "]" for r in x) + "]"


train = rng.normal(size=(60, D)).astype(np.float32) * 2 + 1
val, labels, preds = [], [], []
# class 0: no signal, 7 errors of 50; class 1: errors planted along feature 0, 12 of 40; class 2: 5 errors of 25.
for c, (n, n_err, shift) in enumerate([(50, 7, 0.0), (40, 12, 2.5), (25, 5, 0.0)]):
    x = rng.normal(size=(n, D)).astype(np.float32) * 2 + 1
    wrong = np.zeros(n, dtype=bool)
    wrong[rng.permutation(n)[:n_err]] = True
    x[wrong, 0] += shift
    val.append(x)
    labels += [c] * n
    preds += [(c + 1) % 3 if w else c for w in wrong]
val = np.concatenate(val)
labels, preds = np.array(labels), np.array(preds)

t = torch.tensor(train)
mean = t.mean(dim=0)
std = (t - mean).std(dim=0)
xv = (torch.tensor(val) - mean) / std
xv = (xv / torch.linalg.norm(xv, dim=1, keepdims=True)).numpy()

classes = []
scorer = make_scorer(balanced_accuracy_score)
for c in range(3):
    m = labels == c
    x, gt = xv[m], (preds[m] == labels[m]).astype(int)
    best_cv, best_c, best = -np.inf, None, None
    cvs = []
    for C in np.logspace(-6, 0, 7):
        clf = SVC(gamma="auto", kernel="linear", C=C, class_weight="balanced")
        s = float(np.mean(cross_val_score(clf, x, gt, cv=2, scoring=scorer)))
        clf.fit(x, gt)
        cvs.append(s)
        if s > best_cv:
            best_cv, best_c, best = s, float(C), clf
    dec = best.decision_function(x)
    classes.append(dict(best_c=best_c, cv_by_c=cvs, intercept=float(best.intercept_[0]),
                        coef=[float(v) for v in best.coef_.ravel()],
                        constant=bool((dec > 0).all() or (dec <= 0).all())))

print("{")
print('"train":' + rows(train) + ",")
print('"val":' + rows(val) + ",")
print('"labels":' + json.dumps([int(v) for v in labels]) + ",")
print('"preds":' + json.dumps([int(v) for v in preds]) + ",")
print('"classes":' + json.dumps(classes))
print("}")
