from django.http import HttpResponse
from django.shortcuts import render


def index(request):
    return HttpResponse("Django says hello")  # route: index


def items(request, count):
    names = [f"item {n}" for n in range(count)]  # route: items
    return render(request, "polls/items.html", {"names": names})  # route: items
