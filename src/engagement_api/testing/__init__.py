"""Testing a client against engagement-api (docs/standin.md): the stand-in as a Python object,
:class:`engagement_api.testing.standin.Standin`, and as the pytest fixture
``engagement_standin`` (:mod:`engagement_api.testing.plugin`, registered by the ``pytest11``
entry point).

Nothing is imported here: pytest imports the plugin, and so this package, when it starts, before
a coverage measurement of the caller's own starts; the server is imported only when a test asks
for the fixture.
"""
