"""The token page: a logged-in person creates, names, lists and revokes their own API client's tokens.

A new key is shown once, in the answer to the form that created it (never stored, never cached); the list
shows each token's prefix only. Django's login, CSRF protection and sessions guard every action.
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from .forms import TokenCreateForm
from .selectors import token_list, token_of_client_get
from .services import api_client_for_user, token_issue, token_revoke


@never_cache
@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def tokens_page(request):
    """GET: the client's tokens and a form for a new one; POST: create it and show its key, once."""
    client = api_client_for_user(user=request.user)
    form = TokenCreateForm(request.POST if request.method == "POST" else None)
    created = None
    status = 200
    if form.is_bound:
        if form.is_valid():
            token, key = token_issue(client=client, name=form.cleaned_data["name"])
            created = {"token": token, "key": key}
            form = TokenCreateForm()
            status = 201
        else:
            status = 400
    context = {"client": client, "tokens": token_list(client=client), "form": form, "created": created}
    return render(request, "clients/tokens.html", {**context, "now": timezone.now()}, status=status)


@login_required
@require_POST
def token_revoke_page(request, token_id: int):
    """Revoke one of the client's own tokens, then back to the list."""
    token = token_of_client_get(client=api_client_for_user(user=request.user), token_id=token_id)
    if token is None:
        raise Http404(f"Token {token_id} is not one of yours.")
    if token.revoked_at is None:
        token_revoke(token=token)
        messages.success(request, f"Revoked the token {token.prefix}… ({token.name or 'unnamed'}).")
    return redirect("tokens")
