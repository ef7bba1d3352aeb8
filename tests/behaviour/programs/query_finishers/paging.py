"""Finishers: each is handed a legacy Query, refines it and runs it."""


def paginate(query, page, per_page=2, order=None):
    if order is not None:
        query = query.order_by(None).order_by(order)
    total = query.count()
    items = query.offset((page - 1) * per_page).limit(per_page).all()
    return {"total": total, "titles": [t.title for t in items]}


def first_title(query):
    found = query.first()
    return found.title if found else None


def urgent_titles(query, minimum=3):
    # names no class: filter_by() applies to what its callers' queries select
    return [t.title for t in query.filter_by(priority=minimum).order_by(None).all()]


def with_projects(query):
    # reads a relationship of what it loads: the select() it is handed needs a loader option
    return [f"{t.title}@{t.project.name}" for t in query]
