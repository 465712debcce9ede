from channels.routing import URLRouter
from django.urls import path

from .auth import TicketOrSessionAuthStack
from .consumers import RoomsConsumer

websocket_urlpatterns = [path("ws/", RoomsConsumer.as_asgi())]

websocket_application = TicketOrSessionAuthStack(URLRouter(websocket_urlpatterns))
