"""Evaluation of the topic matcher against hand-labelled headlines and written articles.

`python -m eval` (or `make eval`) reports precision, recall and F1 per watch topic, with the
false positives and false negatives listed by id or path. Labels are ground truth written by
reading each entry; the matcher is only ever the thing being measured.
"""
