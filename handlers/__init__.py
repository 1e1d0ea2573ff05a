"""Capabilities of the bot, one module each, each with its own gidgethub ``Router``.

A handler is ``async def handler(event, ctx)``: ``event`` is gidgethub's ``sansio.Event`` and
``ctx`` the ``bot.context.EventContext`` with the installation's GitHub client, the repository's
config, templates and storage. Handlers know GitHub events, not HTTP.

``ROUTERS`` is the list the bot registers; a new capability adds its router here.
"""

from gidgethub.routing import Router

from . import activity, care, cla, conduct, dco, good_first_issue, insights_report, licenses, recognition, welcome

ROUTERS: list[Router] = [
    activity.router,
    care.router,
    cla.router,
    conduct.router,
    dco.router,
    good_first_issue.router,
    insights_report.router,
    licenses.router,
    recognition.router,
    welcome.router,
]
