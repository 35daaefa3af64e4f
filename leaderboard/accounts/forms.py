from django import forms
from django.contrib.auth.forms import UserCreationForm
from django.contrib.auth.models import User


class SignupForm(UserCreationForm[User]):
    email = forms.EmailField(required=True, help_text="Used only to tell you when a job ends.")

    class Meta(UserCreationForm.Meta):
        model = User
        fields = ("username", "email")
