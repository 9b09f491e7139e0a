"""The REST API: the same records, scope and rules as the pages, for other systems.

Read through ``tracker.permissions`` (a task outside the user's scope is 404, exactly like a
missing one), filter through ``tracker.filtersets`` (the task list page's own FilterSet), figure
through ``tracker.selectors`` and write through ``tracker.actions`` with source 接口
(``EventSource.API``): the actions decide who may make a change, so a refusal here is the same
refusal as on the task page. ``views`` are thin; ``serializers`` say what a record looks like
and validate input only; ``errors`` turns the actions' refusals into HTTP answers.
"""
