# LoanTrack production image: gunicorn for web; the same image runs the Celery worker and beat.
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    DJANGO_SETTINGS_MODULE=loantrack.settings.production

WORKDIR /app
RUN useradd --create-home --uid 1000 loantrack

COPY pyproject.toml README.md ./
RUN pip install .

COPY . .
# collectstatic needs a key to import the production settings; this throwaway one is never used at run time.
RUN SECRET_KEY=build-only-not-secret-0123456789abcdefghijklmnopqrstuvwxyz-build-only \
    FIELD_ENCRYPTION_KEY=YnVpbGQtb25seS1ub3Qtc2VjcmV0LWtleS0zMmJ5dGU= FIELD_HASH_KEY=build-only \
    python manage.py collectstatic --noinput \
    && mkdir -p /app/var/media && chown -R loantrack /app/var

USER loantrack
EXPOSE 8000
CMD ["gunicorn", "loantrack.wsgi:application", "--bind", "0.0.0.0:8000", "--workers", "3", "--timeout", "60", "--access-logfile", "-"]
