from django.urls import path

from mysite import views

urlpatterns = [
    path("", views.index),
    path("items/<int:count>/", views.items),
    path("health/", views.health),
    path("about/", views.about),
]
