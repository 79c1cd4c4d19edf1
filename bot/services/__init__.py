"""Domain services: plain Python over a SQLAlchemy Session; callers commit."""
