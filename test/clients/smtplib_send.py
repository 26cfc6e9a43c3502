# Python's smtplib with only host and port: the message built by the email package, its exact bytes written to
# MP_SENT so the test can compare them with what Mailpen stored. With MP_CA, STARTTLS verifying against that CA.
import os, smtplib, ssl
from email.message import EmailMessage
from email import policy

env = os.environ
msg = EmailMessage()
msg["From"] = env["MP_FROM"]
msg["To"] = env["MP_TO"]
msg["Subject"] = env["MP_SUBJECT"]
msg.set_content(env["MP_TEXT"])
msg.add_alternative(env["MP_HTML"], subtype="html")
with open(env["MP_ATTACHMENT"], "rb") as f:
    msg.add_attachment(f.read(), maintype="application", subtype="octet-stream", filename=env["MP_ATTACHMENT_NAME"])
data = msg.as_bytes(policy=policy.SMTP)

s = smtplib.SMTP(env["MP_HOST"], int(env["MP_PORT"]))
if env.get("MP_CA"):
    s.starttls(context=ssl.create_default_context(cafile=env["MP_CA"]))
s.sendmail(env["MP_FROM"], [env["MP_TO"]], data)
s.quit()
with open(env["MP_SENT"], "wb") as f:
    f.write(data)
