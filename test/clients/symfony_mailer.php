<?php
// Symfony Mailer (Debian php-symfony-mailer, what Laravel sends with) from the DSN smtp://host:port: it upgrades
// whenever STARTTLS is offered and verifies the certificate (against openssl.cafile when the test sets it).
require '/usr/share/php/Symfony/Component/Mailer/autoload.php';
use Symfony\Component\Mailer\Mailer;
use Symfony\Component\Mailer\Transport;
use Symfony\Component\Mime\Email;

$mailer = new Mailer(Transport::fromDsn('smtp://' . getenv('MP_HOST') . ':' . getenv('MP_PORT')));
$email = (new Email())
    ->from(getenv('MP_FROM'))
    ->to(getenv('MP_TO'))
    ->subject(getenv('MP_SUBJECT'))
    ->text(getenv('MP_TEXT'))
    ->html(getenv('MP_HTML'))
    ->attachFromPath(getenv('MP_ATTACHMENT'), getenv('MP_ATTACHMENT_NAME'), 'application/octet-stream');
$mailer->send($email);
