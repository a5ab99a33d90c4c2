"""The decision of a session (v3 and legacy v2) and its list row, rendered from its person.

Every feature that ran (a key of `session.outcomes`) becomes a one-item array built from the
session's synthetic person (see `people.py`) and its `FeatureOutcome`: status, warnings, and
`outcome.data` merged onto the item. Randomness comes from seeds derived from the tenant seed
and the session id, so the same seed and the same calls give byte-identical decisions.

- `layout`: where each feature sits in a decision (node ids, arrays, top-level keys);
- `context`: what every builder reads (`Context`) and the small helpers they share;
- one module per feature builder: `id_verification`, `nfc`, `liveness` (with age estimation),
  `face_match`, `phone`, `email`, `lifecycle` (the OTP events of both), `poa`, `aml`,
  `ip_analysis`, `database_validation`, `questionnaire`;
- `assembly`: the builder of each feature, the feature arrays and the whole v3 decision;
- `rows`: the list row of GET /v3/sessions/; `v2`: the legacy singular decision;
- `cache` and `rendering`: the renderings callers get, cached per session revision as JSON.
"""
