from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from accounts import api as accounts_api
from chat import api as chat_api
from deals import api as deals_api
from files import api as files_api
from scheduling import api as scheduling_api

api_patterns = [
    path("auth/register/", accounts_api.RegisterApi.as_view(), name="register"),
    path("auth/token/", accounts_api.TokenApi.as_view(), name="token"),
    path("me/", accounts_api.MeApi.as_view(), name="me"),
    path("ws-ticket/", chat_api.WsTicketApi.as_view(), name="ws-ticket"),
    path("projects/", deals_api.ProjectListApi.as_view(), name="projects"),
    path("projects/<int:project_id>/", deals_api.ProjectDetailApi.as_view(), name="project"),
    path("projects/<int:project_id>/cancel/", deals_api.ProjectCancelApi.as_view(),
         name="project-cancel"),
    path("projects/<int:project_id>/proposals/", deals_api.ProjectProposalsApi.as_view(),
         name="project-proposals"),
    path("engagements/", deals_api.EngagementListApi.as_view(), name="engagements"),
    path("engagements/<int:engagement_id>/", deals_api.EngagementDetailApi.as_view(),
         name="engagement"),
    path("engagements/<int:engagement_id>/proposal/", deals_api.ProposalReviseApi.as_view(),
         name="engagement-proposal"),
    path("engagements/<int:engagement_id>/hire/", deals_api.HireApi.as_view(), name="hire"),
    path("engagements/<int:engagement_id>/decline/", deals_api.DeclineApi.as_view(),
         name="decline"),
    path("engagements/<int:engagement_id>/withdraw/", deals_api.WithdrawApi.as_view(),
         name="withdraw"),
    path("engagements/<int:engagement_id>/deliver/", deals_api.DeliverApi.as_view(),
         name="deliver"),
    path("engagements/<int:engagement_id>/approve/", deals_api.ApproveApi.as_view(),
         name="approve"),
    path("engagements/<int:engagement_id>/request-revision/",
         deals_api.RequestRevisionApi.as_view(), name="request-revision"),
    path("engagements/<int:engagement_id>/reject/", deals_api.RejectApi.as_view(),
         name="reject"),
    path("engagements/<int:engagement_id>/review/", deals_api.ReviewApi.as_view(),
         name="review"),
    # The room of an engagement shares its id, so chat serves these without knowing deals.
    path("engagements/<int:room_id>/events/", chat_api.RoomEventsApi.as_view(), name="events"),
    path("engagements/<int:room_id>/messages/", chat_api.RoomMessagesApi.as_view(),
         name="messages"),
    path("engagements/<int:room_id>/read/", chat_api.RoomReadApi.as_view(), name="read"),
    path("messages/<int:message_id>/", chat_api.MessageApi.as_view(), name="message"),
    # Documents of a room (the room shares the engagement's id).
    path("engagements/<int:room_id>/files/", files_api.RoomFilesApi.as_view(), name="files"),
    path("files/<int:file_id>/", files_api.FileApi.as_view(), name="file"),
    path("files/<int:file_id>/download/", files_api.FileDownloadApi.as_view(),
         name="file-download"),
    path("advisors/<int:advisor_id>/", deals_api.AdvisorProfileApi.as_view(), name="advisor"),
    # Calls (scheduling): engagement id == room id, as above.
    path("engagements/<int:engagement_id>/calls/", scheduling_api.EngagementCallsApi.as_view(),
         name="engagement-calls"),
    path("calls/upcoming/", scheduling_api.UpcomingCallsApi.as_view(), name="calls-upcoming"),
    path("calls/<int:call_id>/", scheduling_api.CallDetailApi.as_view(), name="call"),
    path("calls/<int:call_id>/accept/", scheduling_api.CallAcceptApi.as_view(),
         name="call-accept"),
    path("calls/<int:call_id>/decline/", scheduling_api.CallDeclineApi.as_view(),
         name="call-decline"),
    path("calls/<int:call_id>/cancel/", scheduling_api.CallCancelApi.as_view(),
         name="call-cancel"),
    path("calls/<int:call_id>/reschedule/", scheduling_api.CallRescheduleApi.as_view(),
         name="call-reschedule"),
    path("calls/<int:call_id>/ics/", scheduling_api.CallIcsApi.as_view(), name="call-ics"),
    path("me/calendar/", scheduling_api.MyCalendarApi.as_view(), name="my-calendar"),
    path("me/calendar/rotate/", scheduling_api.MyCalendarRotateApi.as_view(),
         name="my-calendar-rotate"),
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path("docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="docs"),
]

urlpatterns = [
    path("admin/", admin.site.urls),
    path("i18n/", include("django.conf.urls.i18n")),
    path("api/", include(api_patterns)),
    path("", include("frontend.urls")),
    # The private calendar feed: unauthenticated, the unguessable token is the credential.
    path("calendar/<str:token>.ics", scheduling_api.calendar_feed, name="calendar-feed"),
]
