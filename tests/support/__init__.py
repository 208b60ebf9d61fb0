"""What tests, fault tests and benchmarks share: real parts, started and seeded one way.

- `paths`: the project's folders and the demo directory.
- `ports`: free loopback ports.
- `waiting`: poll until something is true (`wait_for`), until a server answers.
- `postgres`: a PostgreSQL database of one's own, created and dropped.
- `redis`: the test Redis database, flushing it, a private redis-server to crash at will.
- `smtp`: an aiosmtpd sink that keeps (or counts) what it receives.
- `certificates`: a self-signed certificate for TLS tests.
- `accounts`: the one test password and its hash.
- `app`: the app in this process (configuration, a clean database, the worker, logging in).
- `processes`: subprocesses in process groups that never outlive the run.
- `stack`: `formservice web`, `worker` and the CLI as subprocesses, as an operator runs them.
- `http`: a small HTTP client with a cookie jar for live servers (tests and load generators).
- `seed`: synthetic cases, meetings and groups through the services and the models.

Fixtures stay in the conftest files; they build on these modules.
"""
