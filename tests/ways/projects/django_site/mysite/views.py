from django.http import HttpResponse
from django.shortcuts import render

TITLE = "Items"  # import time


def index(request):
    return HttpResponse("Django says hello")


def items(request, count):
    names = [f"item {n}" for n in range(count)]  # the items view
    return render(request, "polls/items.html", {"title": TITLE, "names": names})


def health(request):
    return HttpResponse("ok")  # only the unit tests ask


def about(request):
    return HttpResponse("nobody asks")
