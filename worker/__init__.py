"""The RQ side: job functions and the worker process."""
