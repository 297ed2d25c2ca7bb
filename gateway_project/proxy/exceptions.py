"""Errors of the pass-through proxy."""

from rest_framework import status
from rest_framework.exceptions import APIException


class UnsafePath(APIException):
    status_code = status.HTTP_400_BAD_REQUEST
    default_code = "unsafe_path"
    default_detail = "The request path is not allowed."
