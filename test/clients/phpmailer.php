<?php
// PHPMailer (Debian libphp-phpmailer) with only Host and Port set: SMTPAutoTLS stays on, so it upgrades whenever
// STARTTLS is offered and verifies the certificate (against openssl.cafile when the test sets it).
// CharSet is the message's, not the connection's: PHPMailer labels text ISO-8859-1 unless told.
require '/usr/share/php/libphp-phpmailer/autoload.php';
use PHPMailer\PHPMailer\PHPMailer;

$mail = new PHPMailer(true);
$mail->isSMTP();
$mail->Host = getenv('MP_HOST');
$mail->Port = (int) getenv('MP_PORT');
$mail->CharSet = PHPMailer::CHARSET_UTF8;
$mail->setFrom(getenv('MP_FROM'));
$mail->addAddress(getenv('MP_TO'));
$mail->Subject = getenv('MP_SUBJECT');
$mail->isHTML(true);
$mail->Body = getenv('MP_HTML');
$mail->AltBody = getenv('MP_TEXT');
$mail->addAttachment(getenv('MP_ATTACHMENT'), getenv('MP_ATTACHMENT_NAME'), PHPMailer::ENCODING_BASE64, 'application/octet-stream');
$mail->send();
