"""The benchmark suite behind `make bench`: library grid timings on large seeded databases, upload
ingest over real HTTP, and transfers to S3. Start at run.py; README.md says how to read the output."""
