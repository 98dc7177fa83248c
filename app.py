from mediamgr import create_app; app = create_app()  # noqa: E702  (gunicorn app:app, flask --app app)
