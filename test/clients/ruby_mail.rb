# Ruby's mail gem (Debian ruby-mail, what Rails' Action Mailer sends with) with only address and port set:
# enable_starttls_auto stays on, so it upgrades whenever STARTTLS is offered and verifies the certificate
# (against SSL_CERT_FILE when the test sets it).
require 'mail'

env = ENV
mail = Mail.new do
  from env.fetch('MP_FROM')
  to env.fetch('MP_TO')
  subject env.fetch('MP_SUBJECT')
  text_part do
    content_type 'text/plain; charset=UTF-8'
    body env.fetch('MP_TEXT')
  end
  html_part do
    content_type 'text/html; charset=UTF-8'
    body env.fetch('MP_HTML')
  end
  add_file filename: env.fetch('MP_ATTACHMENT_NAME'), content: File.binread(env.fetch('MP_ATTACHMENT'))
end
mail.charset = 'UTF-8'
mail.delivery_method :smtp, address: env.fetch('MP_HOST'), port: Integer(env.fetch('MP_PORT'))
mail.deliver!
