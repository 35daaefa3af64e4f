"""gunicorn's settings for this site (read from the working directory: `gunicorn leaderboard.wsgi`).

The application is loaded, and warmed up (leaderboard/warmup.py), once in the master before
it forks its workers: each worker starts with every view imported and every template
compiled, so the first request after start-up costs what any other does, and a restarted
worker is ready at once.
"""

preload_app = True
