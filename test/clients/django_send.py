# Django's mail API (Debian python3-django) with only EMAIL_HOST and EMAIL_PORT set. send_mail() takes no
# attachment, so this sends what send_mail() sends, an EmailMultiAlternatives, with one attached.
import os
import django
from django.conf import settings

env = os.environ
settings.configure(EMAIL_HOST=env["MP_HOST"], EMAIL_PORT=int(env["MP_PORT"]))
django.setup()
from django.core.mail import EmailMultiAlternatives

message = EmailMultiAlternatives(env["MP_SUBJECT"], env["MP_TEXT"], env["MP_FROM"], [env["MP_TO"]])
message.attach_alternative(env["MP_HTML"], "text/html")
with open(env["MP_ATTACHMENT"], "rb") as f:
    message.attach(env["MP_ATTACHMENT_NAME"], f.read(), "application/octet-stream")
assert message.send() == 1
