// The seed's health check: which services are configured.
module.exports = async (req, res) => {
  const email = Boolean(process.env.AWS_SES_ACCESS_KEY_ID && process.env.AWS_SES_SECRET_ACCESS_KEY);
  const sms = Boolean(process.env.TWILIO_ACCOUNT_SID && process.env.TWILIO_AUTH_TOKEN);
  res.status(200).json({
    success: true,
    services: { email: email ? 'aws-ses' : 'demo', sms: sms ? 'twilio' : 'demo' },
  });
};
