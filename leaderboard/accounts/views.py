from typing import cast

from django.contrib.auth import login
from django.contrib.auth.decorators import login_required
from django.contrib.auth.models import User
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from rest_framework.authtoken.models import Token

from leaderboard.accounts.forms import SignupForm
from leaderboard.throttle import count_signup, signups_exhausted


def signup(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated:
        return redirect("home")
    form = SignupForm(request.POST or None)
    if request.method == "POST" and signups_exhausted(request):
        return HttpResponse(
            "Too many accounts were created from your address; try again in an hour.",
            status=429,
        )
    if request.method == "POST" and form.is_valid():
        user = form.save()
        count_signup(request)
        login(request, user)
        next_url = request.GET.get("next", "")
        # Only follow `next` within this site, so sign-up links cannot bounce users elsewhere.
        if next_url and url_has_allowed_host_and_scheme(next_url, {request.get_host()}):
            return redirect(next_url)
        return redirect("submit")
    return render(request, "registration/signup.html", {"form": form})


@login_required
def profile(request: HttpRequest) -> HttpResponse:
    """The account page: the user's models and their API token for submissions."""
    user = cast(User, request.user)  # login_required guarantees an authenticated user
    if request.method == "POST" and request.POST.get("action") == "rotate-token":
        Token.objects.filter(user=user).delete()
    token, _ = Token.objects.get_or_create(user=user)
    models = user.models.order_by("-created_at")
    return render(request, "registration/profile.html", {"token": token, "models": models})
