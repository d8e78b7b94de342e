"""The roads under one roof: reading, loading, metering, issuing credentials, seeding the demo.

Called by ``api/`` (HTTP), ``cli/`` (the command line) and ``bench/``; no HTTP and no terminal
in here. Each service takes only the store contracts it uses.

- :mod:`~engagement_api.service.reading` — contract (parse) -> policy -> store -> contract
  (render): the three read endpoints' answers.
- :mod:`~engagement_api.service.loading` — batch bytes -> ingest (validate, fold) -> store
  (apply exactly once): users, Posts, events.
- :mod:`~engagement_api.service.metering` — rate-limit counts and monthly usage.
- :mod:`~engagement_api.service.credentials` — issuing apps, access tokens, ingest keys.
- :mod:`~engagement_api.service.demo` — a synthetic data set through the real load path.
"""
